using HeadTracking.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Models.Heads;

/// <summary>
/// A head for whole-image outputs, after fastai's: the feature map pooled two ways (average and
/// max, concatenated: how much of a thing, and whether it is there at all), a hidden layer with
/// ReLU, and the output layer. fastai also puts BatchNorm before each layer; here, with a few
/// hundred images and a backbone that moves fast once unfrozen, its running statistics lagged
/// the features and the validation loss blew up, so it is left out.
/// </summary>
internal sealed class PooledMlp : Module<Tensor, Tensor>, IOnnxExportable
{
    private readonly Linear fc0;
    private readonly Linear fc1;

    public PooledMlp(long channels, long hidden, long outputs)
        : base(nameof(PooledMlp))
    {
        fc0 = Linear(2 * channels, hidden);
        fc1 = Linear(hidden, outputs);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor pooled = cat([x.mean([2, 3]), x.amax([2, 3])], 1);
        return fc1.forward(functional.relu(fc0.forward(pooled))).MoveToOuterDisposeScope();
    }

    public string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string avg = g.Node("GlobalAveragePool", [inputs[0]]);
        string max = g.Node("GlobalMaxPool", [inputs[0]]);
        string pooled = g.Node("Flatten", [g.Node("Concat", [avg, max], OnnxGraphBuilder.Attr("axis", 1L))], OnnxGraphBuilder.Attr("axis", 1L));
        return [g.Emit(fc1, g.Node("Relu", [g.Emit(fc0, pooled, nameof(fc0))]), nameof(fc1))];
    }
}
