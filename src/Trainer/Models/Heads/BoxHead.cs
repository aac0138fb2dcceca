using HeadTracking.Runtime.Contract;
using HeadTracking.Runtime.Models;
using HeadTracking.Trainer.Models.Backbones;
using HeadTracking.Trainer.Onnx;
using static TorchSharp.torch;

namespace HeadTracking.Trainer.Models.Heads;

/// <summary>One face box and a face score: output [N,5] = x0, y0, x1, y1 in [0, 1] of the model
/// input (sigmoid), then the score as a logit (apply a sigmoid for a probability).</summary>
internal sealed class BoxHead(string name, Backbone backbone, TrunkSize? size = null)
    : TrunkHead(nameof(BoxHead), name, backbone, 5, size)
{
    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        Tensor o = Raw(features);
        return cat([o[.., ..4].sigmoid(), o[.., 4..]], 1).MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => new()
    {
        Name = OutputName,
        Kind = OutputKinds.Box,
        Shape = [-1, 5],
        Layout = "x0,y0,x1,y1,score_logit",
        Coordinates = "normalized [0,1] over the model input (after letterboxing), x to the right, y down",
        Range = [0f, 1f],
        Activation = "sigmoid on score_logit",
    };

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string o = EmitRaw(g, inputs);
        string box = g.Node("Sigmoid", [Slice(g, o, 0, 4)]);
        return [g.Node("Concat", [box, Slice(g, o, 4, 5)], OnnxGraphBuilder.Attr("axis", 1L))];
    }

    internal static string Slice(OnnxGraphBuilder g, string x, long start, long end, long axis = 1) =>
        g.Node("Slice", [x, g.ConstantInt64(start), g.ConstantInt64(end), g.ConstantInt64(axis)]);
}
