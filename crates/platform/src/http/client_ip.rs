//! The client's address, for rate limits and the audit trail.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;

use crate::error::ApiError;

/// Only for clients on this machine: the socket peer is a loopback address and no
/// forwarding header names another machine (a proxy on this host forwarding a remote
/// client is not local). Anything else is answered 404, as if the endpoint did not
/// exist. Guards development aids and operator endpoints (the dev mailbox, `/metrics`).
#[derive(Clone, Copy, Debug)]
pub struct LocalClient;

impl<S: Send + Sync> FromRequestParts<S> for LocalClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if is_local(parts) {
            Ok(Self)
        } else {
            Err(ApiError::not_found("this endpoint"))
        }
    }
}

pub(crate) fn is_local(parts: &Parts) -> bool {
    let peer_is_loopback = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback() || is_mapped_loopback(c.0.ip()));
    peer_is_loopback && forwarded_hops(parts).all(|hop| hop.is_some_and(|ip| ip.is_loopback()))
}

fn is_mapped_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        IpAddr::V4(_) => false,
    }
}

/// Every address named by `X-Forwarded-For`, `X-Real-IP` and `Forwarded` (`None` for
/// an entry that is not an address, which counts as remote).
fn forwarded_hops(parts: &Parts) -> impl Iterator<Item = Option<IpAddr>> + '_ {
    let xff = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .chain(parts.headers.get_all("x-real-ip").iter())
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .map(|hop| hop.trim().parse::<IpAddr>().ok());
    let forwarded = parts
        .headers
        .get_all("forwarded")
        .iter()
        .flat_map(|v| v.to_str().unwrap_or("for=?").split([',', ';']))
        .filter_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            key.eq_ignore_ascii_case("for").then(|| {
                let value = value.trim_matches('"');
                let host = value
                    .strip_prefix('[')
                    .and_then(|v| v.split(']').next())
                    .unwrap_or_else(|| value.split(':').next().unwrap_or(value));
                host.parse::<IpAddr>().ok()
            })
        });
    xff.chain(forwarded)
}

/// Whether to believe `X-Forwarded-For`; part of a service's state.
#[derive(Clone, Copy, Debug)]
pub struct TrustForwardedFor(pub bool);

/// The address the request came from: the socket peer, or the left-most
/// `X-Forwarded-For` entry when the deployment says a trusted proxy sets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl<S> FromRequestParts<S> for ClientIp
where
    S: Send + Sync,
    TrustForwardedFor: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        if TrustForwardedFor::from_ref(state).0 {
            let forwarded = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse::<IpAddr>().ok());
            if let Some(ip) = forwarded {
                return Ok(Self(ip));
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        Ok(Self(peer.unwrap_or(IpAddr::from([127, 0, 0, 1]))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(peer: &str, headers: &[(&str, &str)]) -> Parts {
        let mut req = axum::http::Request::builder().uri("/");
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let (mut parts, ()) = req.body(()).expect("request").into_parts();
        let peer: SocketAddr = peer.parse().expect("address");
        parts.extensions.insert(ConnectInfo(peer));
        parts
    }

    #[test]
    fn only_a_loopback_peer_that_forwards_no_remote_client_is_local() {
        assert!(is_local(&parts("127.0.0.1:5000", &[])));
        assert!(is_local(&parts("[::1]:5000", &[])));
        assert!(is_local(&parts("[::ffff:127.0.0.1]:5000", &[])));
        assert!(is_local(&parts(
            "127.0.0.1:5000",
            &[("x-forwarded-for", "127.0.0.1")]
        )));
        assert!(!is_local(&parts("192.0.2.7:5000", &[])));
        assert!(!is_local(&parts(
            "127.0.0.1:5000",
            &[("x-forwarded-for", "127.0.0.1, 203.0.113.9")]
        )));
        assert!(!is_local(&parts(
            "127.0.0.1:5000",
            &[("x-real-ip", "203.0.113.9")]
        )));
        assert!(!is_local(&parts(
            "127.0.0.1:5000",
            &[("forwarded", "for=\"[2001:db8::1]:443\";proto=https")]
        )));
        assert!(!is_local(&parts(
            "127.0.0.1:5000",
            &[("forwarded", "for=unknown")]
        )));
        assert!(!is_local(&parts(
            "127.0.0.1:5000",
            &[("x-forwarded-for", "not an address")]
        )));
    }
}
