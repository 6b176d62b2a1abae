/** The zod input schemas of every AlertingService function, for the query API's request validation and docs. */
export { acknowledgeInput, historyInput, listActiveAlertsInput, listNotificationsInput, listSilencesInput, previewInput, testSendInput } from './service';
export { silenceInputSchema as silenceInput, maintenanceInputSchema as maintenanceWindowInput } from '../notify/mute';
export { policySchema as policyInput } from '../notify/policy';
export { ruleSchema as ruleInput } from '../rules/schema';
