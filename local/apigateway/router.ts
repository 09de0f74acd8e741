// Matches a request path to a resource of a deployed API as API Gateway does: literal segments
// before `{param}` segments, a greedy `{proxy+}` last; a trailing slash is ignored.
import type { Resource } from "./state";

export interface RouteMatch {
  resource: Resource;
  pathParameters: Record<string, string>;
}

interface TrieNode {
  resource?: Resource;
  literals: Map<string, TrieNode>;
  param?: { name: string; node: TrieNode };
  greedy?: { name: string; resource: Resource };
}

function node(): TrieNode {
  return { literals: new Map() };
}

export class Router {
  private readonly root = node();

  constructor(resources: Iterable<Resource>) {
    for (const resource of resources) this.add(resource);
  }

  private add(resource: Resource) {
    let current = this.root;
    const segments = resource.path.split("/").filter(Boolean);
    for (const [i, segment] of segments.entries()) {
      const greedy = /^\{(.+)\+\}$/.exec(segment);
      if (greedy && i === segments.length - 1) {
        current.greedy = { name: greedy[1], resource };
        return;
      }
      const param = /^\{(.+)\}$/.exec(segment);
      if (param) {
        current.param ??= { name: param[1], node: node() };
        current = current.param.node;
      } else {
        let next = current.literals.get(segment);
        if (!next) current.literals.set(segment, (next = node()));
        current = next;
      }
    }
    current.resource = resource;
  }

  /** `path` is the request path below the stage, percent-encoded as received. */
  match(path: string): RouteMatch | undefined {
    const segments = path.split("/").filter(Boolean);
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      return undefined;
    }
    return this.walk(this.root, decoded, 0, {});
  }

  private walk(at: TrieNode, segments: string[], index: number, params: Record<string, string>): RouteMatch | undefined {
    if (index === segments.length) {
      if (at.resource) return { resource: at.resource, pathParameters: params };
      return undefined;
    }
    const literal = at.literals.get(segments[index]);
    if (literal) {
      const found = this.walk(literal, segments, index + 1, params);
      if (found) return found;
    }
    if (at.param) {
      const found = this.walk(at.param.node, segments, index + 1, { ...params, [at.param.name]: segments[index] });
      if (found) return found;
    }
    if (at.greedy) {
      return { resource: at.greedy.resource, pathParameters: { ...params, [at.greedy.name]: segments.slice(index).join("/") } };
    }
    return undefined;
  }
}
