import { loadAll } from 'js-yaml';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-return, @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-assignment -- manifests are untyped YAML */

/**
 * What `kubectl kustomize <dir>` renders, for the features this repository's kustomizations use
 * (and nothing more: anything else fails the spec that calls it): resources (files and folders),
 * components, `labels` (with `includeTemplates`), `images` (newTag), JSON 6902 patches (`add`,
 * `replace`) on a target kind and name, strategic-merge `$patch: delete`, and `namespace`.
 * The manifest spec checks the rendered objects; kustomize itself is not installable here.
 * `kustomization` stands in for the folder's own (an overlay with an optional component added).
 */
export function kustomize(
  dir: string,
  kustomization: any = documentsOf(join(dir, 'kustomization.yaml'))[0],
): any[] {
  const known = new Set([
    'apiVersion',
    'kind',
    'resources',
    'components',
    'labels',
    'images',
    'patches',
    'namespace',
  ]);
  for (const key of Object.keys(kustomization))
    if (!known.has(key)) throw new Error(`${dir}: kustomization field ${key} is not rendered`);

  const objects: any[] = (kustomization.resources ?? []).flatMap((resource: string) => {
    const path = join(dir, resource);
    return existsSync(path) && statSync(path).isDirectory() ? kustomize(path) : documentsOf(path);
  });
  for (const component of kustomization.components ?? [])
    applyLayer(
      objects,
      join(dir, component),
      documentsOf(join(dir, component, 'kustomization.yaml'))[0],
    );
  applyLayer(objects, dir, { ...kustomization, resources: [] });
  return objects;
}

/** The YAML documents of a file, empty ones (a file of comments) left out. */
export function documentsOf(file: string): any[] {
  if (!existsSync(file)) throw new Error(`${file} does not exist`);
  return loadAll(readFileSync(file, 'utf8')).filter((d) => d !== null && d !== undefined);
}

/** A component's resources and transformations, or a kustomization's own transformations. */
function applyLayer(objects: any[], dir: string, layer: any): void {
  for (const resource of layer.resources ?? []) objects.push(...documentsOf(join(dir, resource)));
  for (const { pairs, includeTemplates } of layer.labels ?? [])
    for (const object of objects) {
      object.metadata.labels = { ...object.metadata.labels, ...pairs };
      const template = object.spec?.template;
      if (includeTemplates && template && ['Deployment', 'Job'].includes(object.kind))
        template.metadata = {
          ...template.metadata,
          labels: { ...template.metadata?.labels, ...pairs },
        };
    }
  for (const { name, newTag } of layer.images ?? [])
    for (const container of objects.flatMap(containersOf))
      if (container.image === name) container.image = `${name}:${newTag}`;
  for (const { target, patch } of layer.patches ?? []) applyPatch(objects, target, patch);
  if (layer.namespace) for (const object of objects) object.metadata.namespace = layer.namespace;
}

function containersOf(object: any): any[] {
  const pod = object.spec?.template?.spec;
  return pod ? [...(pod.initContainers ?? []), ...pod.containers] : [];
}

function applyPatch(objects: any[], target: any, patch: string): void {
  const parsed: any = loadAll(patch)[0];
  if (!Array.isArray(parsed)) {
    // Strategic merge: only a deletion is used.
    if (parsed.$patch !== 'delete') throw new Error('only `$patch: delete` is rendered');
    const index = objects.findIndex(
      (o) => o.kind === parsed.kind && o.metadata.name === parsed.metadata.name,
    );
    if (index < 0) throw new Error(`no ${parsed.kind} ${parsed.metadata.name} to delete`);
    objects.splice(index, 1);
    return;
  }
  const targets = objects.filter(
    (o) => o.kind === target.kind && (target.name === undefined || o.metadata.name === target.name),
  );
  if (targets.length === 0) throw new Error(`no ${target.kind} ${target.name ?? ''} to patch`);
  for (const { op, path, value } of parsed) {
    if (op !== 'add' && op !== 'replace') throw new Error(`patch op ${op} is not rendered`);
    for (const object of targets) {
      const keys = (path as string).slice(1).split('/');
      const last = keys.pop()!;
      const parent = keys.reduce((node, key) => node[key], object);
      if (op === 'replace' && !(last in parent))
        throw new Error(`${path} does not exist to replace`);
      if (last === '-') parent.push(structuredClone(value));
      else parent[last] = structuredClone(value);
    }
  }
}
