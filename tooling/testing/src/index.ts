/**
 * @zg/testing (private): helpers for zg's unit, integration, fault and
 * interoperability tests.
 *
 * @packageDocumentation
 */
export {
  ChildHandle,
  runReadmeQuickStart,
  runScript,
  spawnChild,
  type ChildMessage,
  type ScriptRun,
  type SpawnChildOptions,
} from "./child.js";
export { closeAfter, type Closeable } from "./cleanup.js";
export { injectReceiveFault, type ReceiveFault } from "./receive-fault.js";
export {
  FaultProxy,
  type Fault,
  type FaultDirection,
  type FaultProxyStats,
} from "./fault-proxy.js";
export { inprocEndpoint, ipcEndpoint, tcpEndpoint, tempDir, transports } from "./endpoints.js";
export { FaultPlan, type FaultPlanOptions } from "./faults.js";
export { checkHistory, History, type HistoryEvent, type HistoryReport } from "./history.js";
export { findPythonZmq, PythonPeer, pythonTest, spawnPython } from "./python.js";
export { ScriptedPeer, type ScriptedPeerKind, type ScriptedPeerOptions } from "./scripted-peer.js";
export { delay, percentiles, waitFor, watchStalls, within, type StallWatch } from "./wait.js";
