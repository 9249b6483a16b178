/**
 * The route registry: every module of the HTTP app, in mounting order. One list and one
 * signature, so the composition root and the tests always build the same application.
 */
import type Router from '@koa/router';
import type { AppDeps } from './deps.js';
import type { RouteTable } from './route.js';
import { healthRoutes } from './routes/health.js';
import { authRoutes } from './routes/auth.js';
import { oidcRoutes } from './routes/oidc.js';
import { authPasswordRoutes } from './routes/auth-password.js';
import { adminAccountRoutes } from './routes/admin-accounts.js';
import { adminAuditRoutes } from './routes/admin-audit.js';
import { passwordResetRoutes } from './routes/password-reset.js';
import { adminCourseRoutes } from './routes/admin-courses.js';
import { adminImportRoutes } from './routes/admin-imports.js';
import { teacherSessionRoutes } from './routes/teacher-sessions.js';
import { teacherRecordRoutes } from './routes/teacher-records.js';
import { studentRoutes } from './routes/student.js';
import { analyticsRoutes } from './routes/analytics.js';
import { docsRoutes } from './routes/docs.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { biometricModule } from './routes/biometric.js';
import { gatewayRoutes } from './routes/gateways.js';
import { timetableRoutes } from './routes/timetables.js';
import { personalDataRoutes } from './routes/personal-data.js';
import { absenceWarningRoutes } from './routes/absence-warnings.js';

/**
 * A module adds its routes: API routes through the table (validated, documented in OpenAPI),
 * plain ones (health, static files) on the router. It may return a function that releases what
 * it holds (listeners, caches) when the app closes.
 */
export type RouteModule = (routes: RouteTable, deps: AppDeps, router: Router) => void | (() => void);

export const routeModules: readonly RouteModule[] = [
  healthRoutes,
  authRoutes,
  oidcRoutes,
  authPasswordRoutes,
  adminAccountRoutes,
  adminAuditRoutes,
  passwordResetRoutes,
  adminCourseRoutes,
  adminImportRoutes,
  teacherSessionRoutes,
  teacherRecordRoutes,
  studentRoutes,
  analyticsRoutes,
  docsRoutes,
  dashboardRoutes,
  biometricModule,
  gatewayRoutes,
  timetableRoutes,
  personalDataRoutes,
  absenceWarningRoutes,
];
