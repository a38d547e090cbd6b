//! HTTPS for phones on the LAN: the certificate made once and kept, and the app served over TLS to a
//! client that trusts only that certificate.

use super::{TestResult, state_in};
use fieldcheck_server::Settings;
use fieldcheck_server::tls;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn the_certificate_is_made_once_and_again_only_for_another_address() -> TestResult {
    let dir = tempfile::tempdir()?;
    let hosts = tls::local_hosts(Some("192.168.1.20".parse()?));
    assert_eq!(hosts, ["192.168.1.20", "localhost", "127.0.0.1"]);
    let made = tls::self_signed(dir.path(), &hosts)?;
    let kept = tls::self_signed(dir.path(), &hosts)?;
    assert_eq!(
        made.cert_pem, kept.cert_pem,
        "a phone that trusted it keeps trusting it"
    );
    assert_eq!(made.key_pem, kept.key_pem);
    let moved = tls::self_signed(dir.path(), &tls::local_hosts(Some("10.0.0.7".parse()?)))?;
    assert_ne!(
        moved.cert_pem, made.cert_pem,
        "a new LAN address needs a new certificate"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("key.pem"))?
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the private key is readable by its owner only"
        );
    }
    // A certificate the operator names but that is not there is named in the error.
    let error = tls::load(&dir.path().join("missing.pem"), &dir.path().join("key.pem"))
        .expect_err("no such file");
    assert!(error.to_string().contains("missing.pem"), "{error}");
    Ok(())
}

#[test]
fn phones_are_sent_to_the_lan_address_with_a_readable_code() -> TestResult {
    let lan = Some("192.168.1.20".parse()?);
    assert_eq!(
        tls::phone_url("0.0.0.0:8443".parse()?, lan),
        "https://192.168.1.20:8443"
    );
    assert_eq!(
        tls::phone_url("127.0.0.1:8443".parse()?, lan),
        "https://127.0.0.1:8443"
    );
    let code = tls::qr_code("https://192.168.1.20:8443").expect("a QR code");
    assert!(code.lines().count() > 10 && code.contains('█'), "{code}");
    Ok(())
}

#[tokio::test]
async fn the_app_is_served_over_https_to_a_client_trusting_the_made_certificate() -> TestResult {
    let dir = tempfile::tempdir()?;
    let certificate = tls::self_signed(&dir.path().join("tls"), &tls::local_hosts(None))?;
    let state = state_in(dir.path(), Settings::default()).await?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(fieldcheck_server::serve_tls(
        listener,
        state,
        certificate.clone(),
        async {
            let _ = stopped.await;
        },
    ));

    let mut roots = tokio_rustls::rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&certificate.cert_pem) {
        roots.add(cert?)?;
    }
    let config = tokio_rustls::rustls::ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(address).await?;
    let mut stream = connector
        .connect(ServerName::try_from("127.0.0.1")?.to_owned(), tcp)
        .await?;
    stream
        .write_all(b"GET /api/health HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
        .await?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await?;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-security-policy"),
        "the security headers go over HTTPS too: {answer}"
    );

    let _ = stop.send(());
    server.await??;
    Ok(())
}
