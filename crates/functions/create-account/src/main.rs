#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve(create_account::handle).await
}
