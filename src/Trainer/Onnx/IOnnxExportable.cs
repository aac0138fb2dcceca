namespace HeadTracking.Trainer.Onnx;

/// <summary>
/// A module of ours that writes its own ONNX nodes, beside its forward(). Emit children through
/// <see cref="OnnxGraphBuilder.Emit(TorchSharp.torch.nn.Module, string[], string)"/> with their
/// attribute names, so initializer names equal state_dict names.
/// </summary>
internal interface IOnnxExportable
{
    /// <summary>Emits the module's computation on the named inputs; returns its output names.</summary>
    string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs);
}
