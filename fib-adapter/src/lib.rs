//! FIB adapter: best routes from bgpd's watch stream into the kernel via rtnetlink (not built yet).
