fn main() -> Result<(), lambda_http::Error> {
    shared::run(create_account::handle)
}
