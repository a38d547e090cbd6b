//! HTTPS for phones on the office LAN: service workers, the camera and GPS work only in a secure context.
//!
//! With no certificate given, one is made on first start (self-signed, for the machine's LAN address,
//! `localhost` and 127.0.0.1) and kept in the data folder, so a phone that trusted it once keeps
//! trusting it; it is made again only when the LAN address changes. A real certificate (`--tls-cert`,
//! `--tls-key`) replaces it, or the server runs behind nginx that terminates TLS (see README.md).

use std::net::{IpAddr, Ipv4Addr, SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};

/// What went wrong setting up HTTPS, naming the file involved.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot make a certificate for {hosts}: {reason}")]
    Generate { hosts: String, reason: String },
}

/// A certificate and its private key, PEM-encoded.
#[derive(Debug, Clone)]
pub struct Certificate {
    pub cert_pem: Vec<u8>,
    pub key_pem: Vec<u8>,
    /// Where the certificate is, for the operator to install on phones.
    pub cert_path: PathBuf,
}

/// Reads a certificate and key the operator gave.
pub fn load(cert_path: &Path, key_path: &Path) -> Result<Certificate, TlsError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| TlsError::Read {
            path: path.to_owned(),
            source,
        })
    };
    Ok(Certificate {
        cert_pem: read(cert_path)?,
        key_pem: read(key_path)?,
        cert_path: cert_path.to_owned(),
    })
}

/// The self-signed certificate in `dir` for `hosts`, made (and kept there) when missing or made for
/// other hosts.
pub fn self_signed(dir: &Path, hosts: &[String]) -> Result<Certificate, TlsError> {
    let cert_path = dir.join("cert.pem");
    let key_path = dir.join("key.pem");
    let hosts_path = dir.join("hosts.txt");
    let wanted = hosts.join("\n");
    let kept_for = std::fs::read_to_string(&hosts_path).unwrap_or_default();
    if kept_for == wanted && cert_path.is_file() && key_path.is_file() {
        return load(&cert_path, &key_path);
    }
    let made =
        rcgen::generate_simple_self_signed(hosts.to_vec()).map_err(|error| TlsError::Generate {
            hosts: hosts.join(", "),
            reason: error.to_string(),
        })?;
    let write = |path: &Path, bytes: &[u8]| {
        let failed = |source| TlsError::Write {
            path: path.to_owned(),
            source,
        };
        let mut file = std::fs::File::create(path).map_err(failed)?;
        std::io::Write::write_all(&mut file, bytes).map_err(failed)?;
        file.sync_all().map_err(failed)
    };
    // The folder and the key are the owner's alone from the moment they exist.
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    folder.create(dir).map_err(|source| TlsError::Write {
        path: dir.to_owned(),
        source,
    })?;
    let certificate = Certificate {
        cert_pem: made.cert.pem().into_bytes(),
        key_pem: made.signing_key.serialize_pem().into_bytes(),
        cert_path,
    };
    // `hosts.txt` says the pair is whole: it goes first and comes back last, so a start cut short
    // halfway makes a new pair next time instead of loading a broken one.
    match std::fs::remove_file(&hosts_path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(TlsError::Write {
                path: hosts_path,
                source,
            });
        }
    }
    write_private(&key_path, &certificate.key_pem)?;
    write(&certificate.cert_path, &certificate.cert_pem)?;
    write(&hosts_path, wanted.as_bytes())?;
    Ok(certificate)
}

/// Writes a private key readable by its owner only, with no moment when others could read it.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    use std::io::Write;
    let failed = |source| TlsError::Write {
        path: path.to_owned(),
        source,
    };
    // A key left from an earlier start is replaced, never opened with its old permissions.
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(failed(error)),
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(bytes).map_err(failed)?;
    file.sync_all().map_err(failed)
}

/// The names a certificate for this machine covers: its LAN address (when it has one), then
/// `localhost` and 127.0.0.1.
pub fn local_hosts(lan: Option<IpAddr>) -> Vec<String> {
    let mut hosts: Vec<String> = lan.iter().map(IpAddr::to_string).collect();
    hosts.push("localhost".to_owned());
    hosts.push(Ipv4Addr::LOCALHOST.to_string());
    hosts.dedup();
    hosts
}

/// The machine's address on its LAN: the one the system would send from to reach a private address
/// (nothing is sent; connecting a UDP socket only picks the route). `None` with no network.
pub fn lan_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
    socket.connect((Ipv4Addr::new(10, 254, 254, 254), 1)).ok()?;
    let address = socket.local_addr().ok()?.ip();
    (!address.is_loopback() && !address.is_unspecified()).then_some(address)
}

/// The address phones should open: the LAN address when listening on every interface.
pub fn phone_url(bound: SocketAddr, lan: Option<IpAddr>) -> String {
    let host = match (bound.ip().is_unspecified(), lan) {
        (true, Some(lan)) => lan,
        (true, None) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        (false, _) => bound.ip(),
    };
    format!("https://{}", SocketAddr::new(host, bound.port()))
}

/// `url` as a QR code drawn with block characters, for a phone's camera to read off the terminal.
pub fn qr_code(url: &str) -> Option<String> {
    let code = qrcode::QrCode::new(url.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build(),
    )
}
