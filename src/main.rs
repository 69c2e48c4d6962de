#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    prefcenter::server::cli::main().await
}
