//! `fake-upstreams [--host H] [--port P] [--fixtures DIR]`: serves the fixtures on H
//! (127.0.0.1 unless Docker's bridge is given, for `sam local`) and
//! prints the three base URLs, as `UPSTREAM_*_URL=` lines.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut port = 0u16;
    let mut host = "127.0.0.1".to_owned();
    let mut fixtures = std::path::PathBuf::from("fixtures/catalog");
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--host" => host = args.next().ok_or("--host needs a value")?,
            "--port" => port = args.next().ok_or("--port needs a value")?.parse()?,
            "--fixtures" => fixtures = args.next().ok_or("--fixtures needs a value")?.into(),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(async {
            let fakes = catalog_fake_upstreams::Fakes::start_on(&fixtures, &host, port).await?;
            for (env, url) in fakes.urls() {
                println!("UPSTREAM_{env}_URL={url}");
            }
            std::future::pending::<()>().await;
            Ok(())
        })
}
