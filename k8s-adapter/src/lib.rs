//! Kubernetes adapter: CRDs, reconcilers and LoadBalancer/pod IPAM translated into bgpd gRPC calls (not built yet).
