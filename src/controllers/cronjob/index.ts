// The CronJob controller's public surface.
export { CronJobController, cronJobsResource, scheduledTimestampAnnotation, type CronJob, type CronJobControllerOptions } from './controller.js';
export { parseSchedule, Zone, CronScheduleError, type Schedule } from './schedule.js';
