using System.Linq;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace HeadTracking.Trainer.Onnx.Emitters;

/// <summary>Sequential → its children in order; with BatchNorm folding, a Conv2d directly followed
/// by a BatchNorm2d becomes one Conv.</summary>
internal sealed class SequentialEmitter : ModuleEmitter<Sequential>
{
    protected override string Emit(OnnxGraphBuilder g, Sequential seq, string input)
    {
        var children = seq.named_children().ToArray();
        string x = input;
        for (int i = 0; i < children.Length; i++)
        {
            (string name, Module child) = children[i];
            if (g.Options.FoldBatchNorm && child is Conv2d conv && i + 1 < children.Length && children[i + 1].module is BatchNorm2d bn)
            {
                using (g.Scope(name))
                {
                    x = Conv2dEmitter.EmitConv(g, conv, x, bn, children[i + 1].name);
                }

                i++;
                continue;
            }

            x = g.Emit(child, x, name);
        }

        return x;
    }

}
