fn main() -> Result<(), lambda_http::Error> {
    shared::run(factories::handle)
}
