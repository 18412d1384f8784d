export {
  applyPlan,
  parsePlanText,
  type ActionReport,
  type ApplyOptions,
  type ApplyResult,
  type FileChange,
} from './apply-plan.js';
export { MAX_EDITED_FILE_BYTES } from './workspace.js';
