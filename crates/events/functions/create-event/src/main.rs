fn main() -> Result<(), lambda_http::Error> {
    shared::run(create_event::handle)
}
