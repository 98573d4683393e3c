fn main() -> Result<(), lambda_http::Error> {
    shared::run(imports::handle)
}
