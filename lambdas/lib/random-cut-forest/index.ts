export { RandomCutForest, type ForestOptions, type ForestSnapshot, type ResolvedForestOptions } from "./forest";
export { Shingle, type ShingleSnapshot } from "./shingle";
export { RcfError, type RcfErrorCode } from "./errors";
