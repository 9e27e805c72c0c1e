/// Tensors: storage, layouts and the numeric kernels every model runs on. Depends on nothing but
/// the standard library and Dispatch, so every other module can build on it.
public enum TensorsModule {}
