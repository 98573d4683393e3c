#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve(list_orders::handle).await
}
