/** Entry point of the web GUI bundle (scripts/bundle-gui.ts → dist/gui/assets/app-*.js). */
import { render } from 'preact';
import { App } from './components/App.js';

const root = document.getElementById('app');
if (root === null) throw new Error('psmc GUI: no #app element in index.html');
render(<App />, root);
