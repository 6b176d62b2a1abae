/** The zod input schemas of every AlertingService function, for the query API's request validation and docs. */
export { acknowledgeInput, historyInput, listActiveAlertsInput } from './alerts';
export { listSilencesInput } from './silences';
export { listNotificationsInput, testSendInput } from './notifications';
export { previewInput } from './rules';
export { silenceInputSchema as silenceInput, maintenanceInputSchema as maintenanceWindowInput } from '../notify/mute';
export { policySchema as policyInput } from '../notify/policy';
export { ruleSchema as ruleInput } from '../rules/schema';
