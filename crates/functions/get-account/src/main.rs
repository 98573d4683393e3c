#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve(get_account::handle).await
}
