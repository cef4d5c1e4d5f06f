use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = supportbot::cli::Cli::parse();
    match supportbot::cli::main(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            // One readable sentence with its causes, not a backtrace.
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
