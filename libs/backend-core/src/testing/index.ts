export { describeCoderBackendContract, type CoderBackendContractOptions } from './coder-backend-contract.js';
