// The Job controller's public surface.
export { JobController, jobsResource, jobTrackingFinalizer, isJobFinished, type Job, type JobControllerOptions, type JobCondition, type JobStatus } from './controller.js';
export { completionIndexAnnotation } from './indexes.js';
