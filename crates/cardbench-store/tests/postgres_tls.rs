//! A floor's store over TLS: `sslmode=verify-full&sslrootcert=CA` connects encrypted and checks
//! the server's certificate against the bureau's CA; without that CA the certificate is refused
//! (never a quiet fall back to plain TCP); without `sslmode` the link is plain. The test server
//! (`tests/postgres/start-postgres.sh`) speaks TLS with a certificate for 127.0.0.1 from a CA of
//! its own (`CARDBENCH_TEST_PG_CA`).

use cardbench_store::{Store, StoreError};

/// Whether the store's connection is encrypted, as the server sees it.
fn encrypted(store: &Store) -> bool {
    store
        .read(|c| c.query_row("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", [], |r| r.get::<_, bool>(0)).map_err(StoreError::from))
        .expect("pg_stat_ssl")
}

#[test]
fn a_store_url_with_sslmode_connects_over_verified_tls() {
    let (Ok(_), Ok(ca)) = (std::env::var(cardbench_store::testing::PG_URL_ENV), std::env::var("CARDBENCH_TEST_PG_CA")) else {
        eprintln!("no PostgreSQL with TLS for the tests: skipped");
        return;
    };
    let url = cardbench_store::testing::fresh_postgres_url().expect("schema");
    let plain = Store::open_url(&url).expect("plain");
    assert!(!encrypted(&plain), "no sslmode: plain TCP");

    let verified = Store::open_url(&format!("{url}&sslmode=verify-full&sslrootcert={ca}")).expect("TLS with the bureau's CA");
    assert!(encrypted(&verified), "sslmode=verify-full: TLS");
    // The change feed's own connection goes the same way.
    let mut feed = verified.change_feed().expect("feed");
    feed.wait(std::time::Duration::from_millis(500));
    assert!(feed.is_listening(), "the feed listens over TLS");

    let Err(refused) = Store::open_url(&format!("{url}&sslmode=require")) else {
        panic!("a certificate from an unknown CA is accepted");
    };
    let text = refused.to_string();
    assert!(text.to_lowercase().contains("certificate"), "the refusal names the certificate: {text}");

    let Err(bad_mode) = Store::open_url(&format!("{url}&sslmode=allow")) else { panic!("sslmode=allow accepted") };
    assert!(bad_mode.to_string().contains("sslmode=allow"), "{bad_mode}");
}
