fn main() -> Result<(), lambda_http::Error> {
    shared::run(factories_legacy::handle)
}
