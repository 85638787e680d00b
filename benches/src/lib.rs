//! End-to-end benchmark harness: route injector, monitor and the side-by-side runner (not built yet).
