using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using HeadTracker.Runtime.Models;
using HeadTracker.Trainer.Models.Backbones;
using HeadTracker.Trainer.Onnx;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace HeadTracker.Trainer.Models.Heads;

/// <summary>
/// A U-Net decoder on the backbone's feature maps: from the deepest, upsample x2 (nearest),
/// concatenate the next finer map, conv 3x3 + BatchNorm + ReLU; a last x2 upsample reaches the
/// input resolution and a 1x1 conv gives mask logits [N,1,H,W] (apply a sigmoid).
/// </summary>
internal sealed class MaskHead : Head
{
    private readonly ModuleList<Sequential> blocks;
    private readonly Upsample up;
    private readonly Conv2d output;
    private readonly string _name;
    private readonly int _height, _width;

    public MaskHead(string name, Backbone backbone, int width = 32)
        : base(nameof(MaskHead))
    {
        _name = name;
        _height = backbone.Preprocessing.Height;
        _width = backbone.Preprocessing.Width;
        IReadOnlyList<FeatureInfo> f = backbone.Features;
        var list = new List<Sequential>();
        long channels = f[^1].Channels;
        for (int level = f.Count - 2; level >= 0; level--)
        {
            list.Add(Sequential(
                ("0", Conv2d(channels + f[level].Channels, width, 3, padding: 1, bias: false)),
                ("1", BatchNorm2d(width)),
                ("2", ReLU())));
            channels = width;
        }

        blocks = new ModuleList<Sequential>([.. list]);
        up = Upsample(scale_factor: [2.0, 2.0], mode: UpsampleMode.Nearest);
        output = Conv2d(width, 1, 1);
        FinestStride = f[0].Stride;
        RegisterComponents();
    }

    /// <summary>Stride of the finest feature map; the last upsampling covers it.</summary>
    public int FinestStride { get; }

    public override string OutputName => _name;

    public override Tensor forward(Tensor[] features)
    {
        using var scope = NewDisposeScope();
        Tensor x = features[^1];
        for (int i = 0; i < blocks.Count; i++)
        {
            Tensor skip = features[features.Length - 2 - i];
            x = blocks[i].forward(cat([up.forward(x), skip], 1));
        }

        for (int s = FinestStride; s > 1; s /= 2)
        {
            x = up.forward(x);
        }

        return output.forward(x).MoveToOuterDisposeScope();
    }

    public override ManifestOutput Describe() => new()
    {
        Name = _name,
        Kind = "mask",
        Shape = [-1, 1, _height, _width],
        Coordinates = "one logit per model-input pixel (after letterboxing)",
        Activation = "sigmoid",
    };

    public override string[] EmitOnnx(OnnxGraphBuilder g, string[] inputs)
    {
        string x = inputs[^1];
        for (int i = 0; i < blocks.Count; i++)
        {
            string skip = inputs[inputs.Length - 2 - i];
            string cat = g.Node("Concat", [g.Emit(up, x, nameof(up)), skip], OnnxGraphBuilder.Attr("axis", 1L));
            x = g.Emit(blocks[i], cat, $"{nameof(blocks)}.{i.ToString(CultureInfo.InvariantCulture)}");
        }

        for (int s = FinestStride; s > 1; s /= 2)
        {
            x = g.Emit(up, x, nameof(up));
        }

        return [g.Emit(output, x, nameof(output))];
    }
}
