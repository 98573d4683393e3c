#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    shared::serve(place_order::handle).await
}
