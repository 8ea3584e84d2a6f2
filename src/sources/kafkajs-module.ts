/**
 * Replacing one of kafkajs' internal modules in Node's module cache, the way
 * Kestrel corrects or speeds up kafkajs without forking it (the read_committed
 * filter, the produce record encoder, the Fetch response decoder).
 *
 * A kafkajs module that `require`s another at load binds its exports then: the
 * replacement must be in the cache before that module loads. `boundBy` names
 * it; when it is loaded already (with the original), replacing is too late and
 * nothing is changed. Under a module system without Node's cache (jest's
 * registry) nothing is changed either: kafkajs keeps its own.
 */
const replaced = new WeakSet<object>();

/** Replaces the exports of kafkajs module `request` with `replacement(original)`; whether it took effect. */
export function replaceKafkajsModule(request: string, replacement: (original: object) => object, boundBy?: string): boolean {
  const path = require.resolve(request);
  const cached = require.cache[path]?.exports as object | undefined;
  if (cached && replaced.has(cached)) return true;
  if (boundBy && require.cache[require.resolve(boundBy)]) return false;
  // Loading it registers its cache entry; its exports are then replaced before anything binds them.
  if (!cached) require(path);
  const entry = require.cache[path];
  if (!entry) return false;
  entry.exports = replacement(entry.exports as object);
  replaced.add(entry.exports as object);
  return true;
}
