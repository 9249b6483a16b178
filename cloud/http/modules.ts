/**
 * Feature modules mounted by createApp besides the core routes. Each feature adds one line here,
 * so the composition root and the tests always build the same application.
 */
import type { RouteModule } from './app.js';
import { analyticsRoutes } from './routes/analytics.js';
import { docsRoutes } from './routes/docs.js';
import { dashboardRoutes } from '../dashboard/routes.js';
import { biometricModule } from './routes/biometric.js';
import { gatewayRoutes } from './routes/gateways.js';
import { timetableRoutes } from './routes/timetables.js';

export const featureModules: RouteModule[] = [
  analyticsRoutes,
  docsRoutes,
  dashboardRoutes,
  biometricModule,
  gatewayRoutes,
  timetableRoutes,
];
