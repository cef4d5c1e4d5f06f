# Build stage: compile the release binary.
FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY build.rs ./
COPY benches ./benches
COPY migrations ./migrations
COPY prompts ./prompts
COPY examples ./examples
COPY assets ./assets
RUN cargo build --release --locked && strip target/release/supportbot

# Runtime stage: a slim image with the binary, a non-root user and a volume for the SQLite file.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /data supportbot
COPY --from=build /src/target/release/supportbot /usr/local/bin/supportbot
COPY supportbot.example.toml /etc/supportbot/supportbot.example.toml
USER supportbot
WORKDIR /data
VOLUME ["/data"]
# The model fetched on first use is kept in the volume too, so a new container does not fetch it again.
ENV SUPPORTBOT_DATABASE__URL=sqlite:///data/supportbot.db \
    SUPPORTBOT_SERVER__LISTEN=0.0.0.0:3000 \
    SUPPORTBOT_MODEL__CACHE_DIR=/data/.cache/supportbot/hub
EXPOSE 3000
ENTRYPOINT ["supportbot"]
CMD ["run"]
