// The console's pages: the hash route, who may open it, the module that renders it and whether
// it appears in the navigation (pages opened from another page, such as one session, do not).
export const ROUTES = [
  { path: 'admin/accounts', roles: ['admin'], module: './pages/admin-accounts.js', nav: 'nav.admin.accounts' },
  { path: 'admin/rooms', roles: ['admin'], module: './pages/admin-rooms.js', nav: 'nav.admin.rooms' },
  { path: 'admin/fleet', roles: ['admin'], module: './pages/admin-fleet.js', nav: 'nav.admin.fleet' },
  { path: 'admin/courses', roles: ['admin'], module: './pages/admin-courses.js', nav: 'nav.admin.courses' },
  { path: 'admin/audit', roles: ['admin'], module: './pages/admin-audit.js', nav: 'nav.admin.audit' },
  { path: 'teacher/session', roles: ['teacher', 'admin'], module: './pages/teacher-session.js', nav: 'nav.teacher.session' },
  { path: 'teacher/sessions', roles: ['teacher', 'admin'], module: './pages/teacher-sessions.js', nav: 'nav.teacher.sessions' },
  { path: 'teacher/students', roles: ['teacher', 'admin'], module: './pages/teacher-students.js', nav: 'nav.teacher.students' },
  { path: 'teacher/warnings', roles: ['teacher', 'admin'], module: './pages/teacher-warnings.js', nav: 'nav.teacher.warnings' },
  { path: 'student/attendance', roles: ['student'], module: './pages/student-attendance.js', nav: 'nav.student.attendance' },
  { path: 'student/devices', roles: ['student'], module: './pages/student-devices.js', nav: 'nav.student.devices' },
  { path: 'student/data', roles: ['student'], module: './pages/student-data.js', nav: 'nav.student.data' },
];

/** Where each role lands after logging in. */
export const HOME = { admin: 'admin/accounts', teacher: 'teacher/session', student: 'student/attendance' };

export const GROUPS = [['admin', 'nav.group.admin'], ['teacher', 'nav.group.teacher'], ['student', 'nav.group.student']];
