// What `terraform show -json` prints of a plan and of a state, as far as the scripts read it.

export interface PlanResourceChange {
  address: string;
  type: string;
  name: string;
  mode: string;
  change: {
    actions: string[];
    before: Record<string, unknown> | null;
    after: Record<string, unknown> | null;
    after_unknown?: Record<string, unknown>;
    before_sensitive?: unknown;
    after_sensitive?: unknown;
    replace_paths?: (string | number)[][];
  };
  action_reason?: string;
}

export interface PlanJson {
  resource_changes?: PlanResourceChange[];
  prior_state?: StateJson;
  configuration?: unknown;
}

export interface StateResource {
  address: string;
  type: string;
  name: string;
  mode: string;
  index?: string | number;
  values: Record<string, unknown>;
  sensitive_values?: unknown;
}

export interface StateJson {
  values?: { root_module?: { resources?: StateResource[] }; outputs?: Record<string, { value: unknown }> };
}

export function stateResources(state: StateJson): StateResource[] {
  return (state.values?.root_module?.resources ?? []).filter((r) => r.mode === "managed");
}
