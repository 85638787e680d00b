//! `petrel.ipam.v1.Ipam` over [`NodeIpam`]: request checks and message conversion only.

use std::net::IpAddr;

use bgp_api::ipam::v1 as pb;
use bgp_api::ipam::v1::ipam_server::{Ipam, IpamServer};
use tokio::net::UnixListener;
use tokio_stream::wrappers::UnixListenerStream;
use tonic::{Request, Response, Status};

use super::config::Attachment;
use super::error::ServerError;
use super::node::{Addresses, Assigned, NodeIpam, Route};
use super::store::Store;

/// The gRPC face of a [`NodeIpam`].
#[derive(Debug)]
pub struct IpamService<S> {
    ipam: NodeIpam<S>,
}

impl<S: Store> IpamService<S> {
    /// Serves `ipam`.
    pub fn new(ipam: NodeIpam<S>) -> Self {
        Self { ipam }
    }

    /// The tonic service, to add to a `tonic::transport::Server`.
    pub fn into_server(self) -> IpamServer<Self> {
        IpamServer::new(self)
    }
}

/// Serves `ipam` on a bound unix socket until `shutdown` completes. The caller binds the
/// socket (and so chooses its path and permissions).
pub async fn serve_unix<S: Store>(
    ipam: NodeIpam<S>,
    listener: UnixListener,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), tonic::transport::Error> {
    tonic::transport::Server::builder()
        .add_service(IpamService::new(ipam).into_server())
        .serve_with_incoming_shutdown(UnixListenerStream::new(listener), shutdown)
        .await
}

fn ip_config(a: &Assigned) -> pb::IpConfig {
    pb::IpConfig {
        address: a.addr.to_string(),
        prefix_len: u32::from(a.prefix_len),
        gateway: a.gateway.map(|g| g.to_string()).unwrap_or_default(),
        pool: a.pool.clone(),
    }
}

fn route(r: &Route) -> pb::Route {
    pb::Route {
        destination: r.destination.to_string(),
        gateway: r.gateway.map(|g| g.to_string()).unwrap_or_default(),
    }
}

fn split(addresses: &Addresses) -> (Vec<pb::IpConfig>, Vec<pb::Route>) {
    (
        addresses.ips.iter().map(ip_config).collect(),
        addresses.routes.iter().map(route).collect(),
    )
}

fn required(field: &'static str, value: &str) -> Result<(), ServerError> {
    if value.is_empty() {
        return Err(ServerError::InvalidArgument {
            field,
            reason: "is empty".into(),
        });
    }
    Ok(())
}

#[tonic::async_trait]
impl<S: Store> Ipam for IpamService<S> {
    async fn allocate(
        &self,
        request: Request<pb::AllocateRequest>,
    ) -> Result<Response<pb::AllocateResponse>, Status> {
        let req = request.into_inner();
        let attachment = Attachment {
            pod_namespace: req.pod_namespace,
            pod_name: req.pod_name,
            pod_uid: req.pod_uid,
            container_id: req.container_id,
            interface: req.interface,
        };
        let pool = req.pool.filter(|p| !p.is_empty());
        let addresses = self.ipam.allocate(&attachment, pool.as_deref()).await?;
        let (ips, routes) = split(&addresses);
        Ok(Response::new(pb::AllocateResponse { ips, routes }))
    }

    async fn release(
        &self,
        request: Request<pb::ReleaseRequest>,
    ) -> Result<Response<pb::ReleaseResponse>, Status> {
        let req = request.into_inner();
        required("container_id", &req.container_id)?;
        required("interface", &req.interface)?;
        let freed = self.ipam.release(&req.container_id, &req.interface).await?;
        let released = freed.iter().map(IpAddr::to_string).collect();
        Ok(Response::new(pb::ReleaseResponse { released }))
    }

    async fn check(
        &self,
        request: Request<pb::CheckRequest>,
    ) -> Result<Response<pb::CheckResponse>, Status> {
        let req = request.into_inner();
        required("container_id", &req.container_id)?;
        required("interface", &req.interface)?;
        let expected = req
            .addresses
            .iter()
            .map(|a| {
                a.parse::<IpAddr>()
                    .map_err(|_| ServerError::InvalidArgument {
                        field: "addresses",
                        reason: format!("{a:?} is not an IP address"),
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let held = self
            .ipam
            .check(&req.container_id, &req.interface, &expected)
            .await?;
        let (ips, routes) = split(&held);
        Ok(Response::new(pb::CheckResponse { ips, routes }))
    }

    async fn list(
        &self,
        _request: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListResponse>, Status> {
        let listed = self.ipam.list().await?;
        let allocations = listed
            .into_iter()
            .map(|l| pb::Allocation {
                pod_namespace: l.attachment.pod_namespace,
                pod_name: l.attachment.pod_name,
                pod_uid: l.attachment.pod_uid,
                container_id: l.attachment.container_id,
                interface: l.attachment.interface,
                ips: l.ips.iter().map(ip_config).collect(),
            })
            .collect();
        Ok(Response::new(pb::ListResponse { allocations }))
    }
}
