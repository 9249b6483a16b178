// The German catalogue: one object, assembled from one file per part of the console.
import common from './common.js';
import adminAccounts from './admin-accounts.js';
import adminGateways from './admin-gateways.js';
import adminCourses from './admin-courses.js';
import teacherSession from './teacher-session.js';
import teacherRecords from './teacher-records.js';
import student from './student.js';
import warnings from './warnings.js';

export default { ...common, ...adminAccounts, ...adminGateways, ...adminCourses, ...teacherSession, ...teacherRecords, ...student, ...warnings };
