/** psmc doctor: checks and repairs a store (see doctor.ts). */
export { isHealthy, runDoctor, type DoctorOptions, type DoctorReport, type Finding, type Severity } from './doctor.js';
