"""The REST API's shared parts: token authentication, the tenant-scoped viewset base,
permissions by role and scope, cursor pagination and the one error envelope."""
