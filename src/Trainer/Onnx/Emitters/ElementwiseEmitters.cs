using System;
using TorchSharp.Modules;
using static HeadTracking.Trainer.Onnx.OnnxGraphBuilder;

namespace HeadTracking.Trainer.Onnx.Emitters;

internal sealed class ReLUEmitter : ModuleEmitter<ReLU>
{
    protected override string Emit(OnnxGraphBuilder g, ReLU module, string input) => g.Node("Relu", [input]);
}

internal sealed class ReLU6Emitter : ModuleEmitter<ReLU6>
{
    protected override string Emit(OnnxGraphBuilder g, ReLU6 module, string input) =>
        g.Node("Clip", [input, g.ConstantFloat([], 0f), g.ConstantFloat([], 6f)]);
}

internal sealed class SigmoidEmitter : ModuleEmitter<Sigmoid>
{
    protected override string Emit(OnnxGraphBuilder g, Sigmoid module, string input) => g.Node("Sigmoid", [input]);
}

internal sealed class TanhEmitter : ModuleEmitter<Tanh>
{
    protected override string Emit(OnnxGraphBuilder g, Tanh module, string input) => g.Node("Tanh", [input]);
}

/// <summary>Identity and, in an inference graph, Dropout: no node at all.</summary>
internal sealed class IdentityEmitter : ModuleEmitter<Identity>
{
    protected override string Emit(OnnxGraphBuilder g, Identity module, string input) => input;
}

internal sealed class DropoutEmitter : ModuleEmitter<Dropout>
{
    protected override string Emit(OnnxGraphBuilder g, Dropout module, string input) => input;
}

internal sealed class FlattenEmitter : ModuleEmitter<Flatten>
{
    protected override string Emit(OnnxGraphBuilder g, Flatten module, string input)
    {
        if (module.start_dim != 1 || module.end_dim != -1)
        {
            throw new NotSupportedException($"cannot export layer '{g.Path}': Flatten({module.start_dim}, {module.end_dim}) (only Flatten(1, -1))");
        }

        return g.Node("Flatten", [input], Attr("axis", 1L));
    }
}
