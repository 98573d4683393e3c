fn main() -> Result<(), lambda_http::Error> {
    shared::run(delete_event::handle)
}
