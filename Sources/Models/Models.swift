/// Models: weight files, network definitions and the embedder that turns an image into a vector.
public enum ModelsModule {}
