// What asgard uses of @kubernetes/client-node, and the one module that imports it. The package is
// about 800 ES modules (every generated API and model), which cost a process ~1.2 s of CPU to load
// on this machine under load; `npm run build` therefore bundles this module with the package into
// one file in its place (scripts/bundle-packages.mjs: ~0.17 s). Run from the sources (tsx,
// tests) it re-exports the package as is.
export { CoreV1Api, KubeConfig, KubernetesObjectApi, PatchStrategy, Watch } from '@kubernetes/client-node';
