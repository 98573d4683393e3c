fn main() -> Result<(), lambda_http::Error> {
    shared::run(list_orders::handle)
}
