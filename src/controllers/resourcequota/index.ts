// The resource quota controller: status.hard and status.used of every ResourceQuota.
export { ResourceQuotaController, type ResourceQuotaControllerOptions } from './controller.js';
export { quotaUsage, usageSource, podUsage, podResources } from '../../api/quota/usage.js';
