// The agent contract (certfleet.agent.v1), generated from proto/ by `npm run proto`.
export * from './generated/certfleet/agent/v1/agent';
export * from './generated/certfleet/agent/v1/enrollment';
export * from './generated/certfleet/agent/v1/host';
export * from './generated/certfleet/agent/v1/inventory';
export { Timestamp } from './generated/google/protobuf/timestamp';
