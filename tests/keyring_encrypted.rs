//! The keyring talks to the Secret Service over an encrypted session: the key never
//! crosses D-Bus in plain text. A private bus with a stand-in Secret Service records the
//! session algorithm GradeDesk's key store asks for (and refuses it, so the key goes to the
//! private file instead: nothing reaches a real keyring).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbus::blocking::Connection;
use dbus::channel::MatchingReceiver;
use dbus::message::MatchRule;
use gradedesk::settings::{KeySource, KeyStore};

struct Bus(Child);

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A private session bus; its address.
fn private_bus(dir: &std::path::Path) -> (Bus, String) {
    let config = dir.join("bus.conf");
    std::fs::write(
        &config,
        format!(
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
            dir.join("bus").display()
        ),
    )
    .unwrap();
    let mut child = Command::new("dbus-daemon")
        .arg(format!("--config-file={}", config.display()))
        .arg("--nofork")
        .arg("--print-address=1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("dbus-daemon is needed for this test (Debian package dbus-daemon)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (Bus(child), line.trim().to_string())
}

#[test]
fn the_key_store_asks_the_secret_service_for_an_encrypted_session() {
    let tmp = tempfile::tempdir().unwrap();
    let (_bus, address) = private_bus(tmp.path());
    // This test binary is its own process: the keyring reaches only the private bus.
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &address);
    std::env::remove_var("GEMINI_API_KEY");

    // The stand-in: owns org.freedesktop.secrets, records every call with its first string
    // argument, and refuses each one.
    let calls: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let (ready, is_ready) = mpsc::channel();
    let seen = calls.clone();
    let service_address = address.clone();
    std::thread::spawn(move || {
        let conn = Connection::new_address(&service_address).unwrap();
        conn.request_name("org.freedesktop.secrets", false, true, true)
            .unwrap();
        conn.start_receive(
            MatchRule::new_method_call(),
            Box::new(move |msg, conn| {
                let member = msg.member().map(|m| m.to_string()).unwrap_or_default();
                let first: String = msg.get1().unwrap_or_default();
                seen.lock().unwrap().push((member, first));
                let error = msg.error(
                    &"org.freedesktop.DBus.Error.NotSupported".into(),
                    &std::ffi::CString::new("stand-in refuses").unwrap(),
                );
                let _ = dbus::channel::Sender::send(conn, error);
                true
            }),
        );
        ready.send(()).unwrap();
        loop {
            conn.process(Duration::from_millis(100)).unwrap();
        }
    });
    is_ready.recv_timeout(Duration::from_secs(10)).unwrap();

    let store = KeyStore::new(&tmp.path().join("config"), true);
    let source = store.save("AIzaSy-keyring-test-0001").unwrap();
    assert_eq!(source, KeySource::File, "the refusing keyring is not used");
    let _ = store.load();

    let calls = calls.lock().unwrap().clone();
    let sessions: Vec<&String> = calls
        .iter()
        .filter(|(member, _)| member == "OpenSession")
        .map(|(_, algorithm)| algorithm)
        .collect();
    assert!(
        !sessions.is_empty(),
        "the key store never opened a Secret Service session: {calls:?}"
    );
    for algorithm in sessions {
        assert_eq!(
            algorithm, "dh-ietf1024-sha256-aes128-cbc-pkcs7",
            "a session other than the encrypted one was asked for: {calls:?}"
        );
    }
    assert!(
        !calls.iter().any(|(_, arg)| arg.contains("keyring-test")),
        "the key crossed the bus in plain text: {calls:?}"
    );
}
