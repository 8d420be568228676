"""In-repo fakes of the chat platforms' HTTP APIs."""
